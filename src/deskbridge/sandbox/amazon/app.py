"""The sandbox Amazon application: its identity and where its emulated endpoints live (no Django)."""

SANDBOX_APP_ID = "amzn1.sellerapps.app.deskbridge-sandbox-0001"
SANDBOX_LWA_CLIENT_ID = "amzn1.application-oa2-client.deskbridgesandbox0001"
SANDBOX_LWA_CLIENT_SECRET = "amzn1.oa2-cs.v1.deskbridge-sandbox-secret"  # noqa: S105 (an emulator's)
SANDBOX_APP_IS_DRAFT = True

SELLER_CENTRAL_PATH = "/sandbox/amazon/sellercentral"
LWA_TOKEN_PATH = "/sandbox/amazon/lwa/auth/o2/token"  # noqa: S105 (a path)
SPAPI_PATH = "/sandbox/amazon/spapi/{region}"
