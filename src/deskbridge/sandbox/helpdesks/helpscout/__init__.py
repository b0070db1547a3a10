"""Emulated helpscout: the real API's paths under /sandbox/helpscout/."""

# deskbridge's OAuth app as the emulated Help Scout knows it: the defaults of the settings
# HELPSCOUT_CLIENT_ID / HELPSCOUT_CLIENT_SECRET in sandbox mode (read by settings.py: no imports here).
SANDBOX_CLIENT_ID = "deskbridge-sandbox-helpscout"
SANDBOX_CLIENT_SECRET = "sandbox-helpscout-app-secret-not-for-production"  # noqa: S105 (a sandbox value)
