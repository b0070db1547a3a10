"""The Orders API v0 fallback (models/orders-api-model/ordersV0.json): four read operations.

getOrder, getOrderItems, getOrderAddress and getOrderBuyerInfo, each answering `{"payload": …}`.

All four are restricted operations (amazon.md §3). getOrder and getOrderItems answer an LWA access
token without the restricted data: BuyerInfo keeps only BuyerEmail (the anonymized relay alias, of
merchant-fulfilled orders that can ship), ShippingAddress only City, StateOrRegion, PostalCode and
CountryCode (the model's restricted parts are Name, AddressLine1-3, Phone, AddressType and
ExtendedFields), order items lose GiftMessageText and BuyerCustomizedInfo. A Restricted Data Token
with dataElements buyerInfo / shippingAddress adds them back. getOrderAddress and getOrderBuyerInfo
return nothing but restricted data, so the sandbox answers them only with an RDT (403 otherwise);
the roles were checked when the RDT was issued (rdt.py). Amazon has been seen answering them with
an access token and a masked email; a client that relies on that breaks here on purpose.

ShippingAddress exists only for Unshipped, PartiallyShipped, Shipped (and InvoiceUnconfirmed)
orders; a Pending order's items carry no prices, taxes, gift status or promotions (the model).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from deskbridge.sandbox.amazon.models import FulfilledBy, FulfillmentStatus, SandboxOrder
from deskbridge.sandbox.amazon.orders import (
    SHIPPING_STATUSES,
    check_order_id,
    iso,
    not_found,
    sales_channel,
    visible_pii,
)
from deskbridge.sandbox.amazon.params import Param, ParamError, parse_query
from deskbridge.sandbox.amazon.ratelimit import UsagePlan
from deskbridge.sandbox.amazon.roles import Role
from deskbridge.sandbox.amazon.spapi import Caller, denied, endpoint, invalid_input, refuse_body, sp_response

API = "ordersV0"
# The "Usage Plan" tables in the operations' descriptions (a contract test compares them).
USAGE_PLANS = {
    "getOrder": UsagePlan(rate=0.5, burst=30),
    "getOrderItems": UsagePlan(rate=0.5, burst=30),
    "getOrderAddress": UsagePlan(rate=0.5, burst=30),
    "getOrderBuyerInfo": UsagePlan(rate=0.5, burst=30),
}
ORDER_STATUS = {
    FulfillmentStatus.PENDING_AVAILABILITY: "PendingAvailability",
    FulfillmentStatus.PENDING: "Pending",
    FulfillmentStatus.UNSHIPPED: "Unshipped",
    FulfillmentStatus.PARTIALLY_SHIPPED: "PartiallyShipped",
    FulfillmentStatus.SHIPPED: "Shipped",
    FulfillmentStatus.CANCELLED: "Canceled",
    FulfillmentStatus.UNFULFILLABLE: "Unfulfillable",
}
LEVEL_CATEGORY = {
    "EXPEDITED": "Expedited",
    "FREE_ECONOMY": "FreeEconomy",
    "NEXT_DAY": "NextDay",
    "PRIORITY": "Priority",
    "SAME_DAY": "SameDay",
    "SECOND_DAY": "SecondDay",
    "SCHEDULED": "Scheduled",
    "STANDARD": "Standard",
}
ITEMS_PARAMS = (Param("NextToken"),)


def _money(money: dict[str, str], negate: bool = False) -> dict[str, str]:
    amount = Decimal(money["amount"])
    return {"CurrencyCode": money["currencyCode"], "Amount": str(-amount if negate else amount)}


def _address(address: dict[str, Any], full: bool, phone: bool) -> dict[str, Any]:
    """A v2026 CustomerAddress or MerchantAddress as v0's Address."""
    names = {
        "city": "City",
        "districtOrCounty": "County",
        "stateOrRegion": "StateOrRegion",
        "municipality": "Municipality",
        "postalCode": "PostalCode",
        "countryCode": "CountryCode",
    }
    if full:
        names = {
            "name": "Name",
            "companyName": "CompanyName",
            "addressLine1": "AddressLine1",
            "addressLine2": "AddressLine2",
            "addressLine3": "AddressLine3",
            **names,
        }
        if phone:
            names["phone"] = "Phone"
    out = {v0: address[v2026] for v2026, v0 in names.items() if address.get(v2026)}
    if full and address.get("addressType") in ("RESIDENTIAL", "COMMERCIAL"):
        out["AddressType"] = address["addressType"].title()
    return out


def _shipping_address(order: SandboxOrder, full: bool) -> dict[str, Any] | None:
    if order.fulfillment_status not in SHIPPING_STATUSES:
        return None
    address = order.details.get("recipient", {}).get("deliveryAddress")
    if not address:
        return None
    # The model: the phone is suppressed for AFN orders and for shipped ones past delivery.
    phone = (
        order.fulfilled_by == FulfilledBy.MERCHANT
        and visible_pii(order, frozenset({Role.DIRECT_TO_CONSUMER_DELIVERY}), timezone.now()).phone
    )
    return _address(address, full, phone)


def _buyer_info(order: SandboxOrder, full: bool) -> dict[str, Any]:
    buyer = order.details.get("buyer", {})
    info: dict[str, Any] = {}
    if order.fulfilled_by == FulfilledBy.MERCHANT and order.fulfillment_status in SHIPPING_STATUSES:
        info["BuyerEmail"] = order.buyer_email
    if full:
        if order.fulfillment_status in SHIPPING_STATUSES and buyer.get("buyerName"):
            info["BuyerName"] = buyer["buyerName"]
        if buyer.get("buyerPurchaseOrderNumber"):
            info["PurchaseOrderNumber"] = buyer["buyerPurchaseOrderNumber"]
    return info


def v0_order(order: SandboxOrder, elements: frozenset[str]) -> dict[str, Any]:
    """The order as v0's Order; `elements` are the dataElements an RDT grants (none for a token)."""
    details = order.details
    extra = details.get("v0", {})
    merchant = order.fulfilled_by == FulfilledBy.MERCHANT
    fulfillment = details.get("fulfillment", {})
    items = details.get("orderItems", [])
    programs = details.get("programs", [])
    out: dict[str, Any] = {"AmazonOrderId": order.order_id}
    alias = next(
        (a["aliasId"] for a in details.get("orderAliases", []) if a["aliasType"] == "SELLER_ORDER_ID"), None
    )
    if alias:
        out["SellerOrderId"] = alias
    out |= {
        "PurchaseDate": iso(order.created_time),
        "LastUpdateDate": iso(order.last_updated_time),
        "OrderStatus": ORDER_STATUS[FulfillmentStatus(order.fulfillment_status)],
        "FulfillmentChannel": "MFN" if merchant else "AFN",
        "SalesChannel": sales_channel(order.marketplace_id).get("marketplaceName", "Amazon"),
        "ShipServiceLevel": extra.get("shipServiceLevel", "Standard"),
    }
    if details.get("proceeds"):
        out["OrderTotal"] = _money(details["proceeds"]["grandTotal"])
    out |= {
        "NumberOfItemsShipped": sum(i.get("fulfillment", {}).get("quantityFulfilled", 0) for i in items),
        "NumberOfItemsUnshipped": sum(i.get("fulfillment", {}).get("quantityUnfulfilled", 0) for i in items),
        "PaymentMethod": extra.get("paymentMethod", "Other"),
        "PaymentMethodDetails": extra.get("paymentMethodDetails", ["Standard"]),
        "MarketplaceId": order.marketplace_id,
        "ShipmentServiceLevelCategory": LEVEL_CATEGORY.get(
            fulfillment.get("fulfillmentServiceLevel", ""), "Standard"
        ),
        "OrderType": "StandardOrder",
    }
    if merchant and order.fulfillment_status not in (FulfillmentStatus.PENDING, FulfillmentStatus.CANCELLED):
        windows = {
            "EarliestShipDate": ("shipByWindow", "earliestDateTime"),
            "LatestShipDate": ("shipByWindow", "latestDateTime"),
            "EarliestDeliveryDate": ("deliverByWindow", "earliestDateTime"),
            "LatestDeliveryDate": ("deliverByWindow", "latestDateTime"),
        }
        for name, (window, end) in windows.items():
            if fulfillment.get(window, {}).get(end):
                out[name] = fulfillment[window][end]
    replaced = next(
        (
            a["orderId"]
            for a in details.get("associatedOrders", [])
            if a["associationType"] == "REPLACEMENT_ORIGINAL_ID"
        ),
        None,
    )
    out |= {
        "IsBusinessOrder": "AMAZON_BUSINESS" in programs,
        "IsPrime": "PRIME" in programs,
        "IsPremiumOrder": "PREMIUM" in programs,
        "IsGlobalExpressEnabled": False,
        "IsReplacementOrder": replaced is not None,
    }
    if replaced:
        out["ReplacedOrderId"] = replaced
    out |= {"IsSoldByAB": False, "IsIBA": False, "IsISPU": False, "IsAccessPointOrder": False}
    packages = details.get("packages", [])
    if merchant and packages:
        out["DefaultShipFromLocationAddress"] = _address(packages[0]["shipFromAddress"], True, False)
    address = _shipping_address(order, "shippingAddress" in elements)
    if address:
        out["ShippingAddress"] = address
    out["BuyerInfo"] = _buyer_info(order, "buyerInfo" in elements)
    out["HasRegulatedItems"] = False
    return out


def v0_item(order: SandboxOrder, item: dict[str, Any], buyer_info: bool) -> dict[str, Any]:
    product = item["product"]
    fulfillment = item.get("fulfillment", {})
    out: dict[str, Any] = {
        "ASIN": product["asin"],
        "SellerSKU": product.get("sellerSku", ""),
        "OrderItemId": item["orderItemId"],
        "Title": product.get("title", ""),
        "QuantityOrdered": item["quantityOrdered"],
        "QuantityShipped": fulfillment.get("quantityFulfilled", 0),
        "ProductInfo": {"NumberOfItems": "1"},
    }
    points = item.get("expense", {}).get("pointsCost", {}).get("pointsGranted")
    if points:
        out["PointsGranted"] = {
            "PointsNumber": points["pointsNumber"],
            "PointsMonetaryValue": _money(points["pointsMonetaryValue"]),
        }
    pending = order.fulfillment_status == FulfillmentStatus.PENDING
    gift = fulfillment.get("packing", {}).get("giftOption")
    if "proceeds" in item and not pending:
        breakdowns = {b["type"]: b for b in item["proceeds"]["breakdowns"]}
        currency = item["proceeds"]["proceedsTotal"]["currencyCode"]
        zero = {"amount": "0", "currencyCode": currency}
        taxes = {d["subtype"]: d["value"] for d in breakdowns.get("TAX", {}).get("detailedBreakdowns", [])}
        out["ItemPrice"] = _money(breakdowns["ITEM"]["subtotal"])
        out["ShippingPrice"] = _money(breakdowns.get("SHIPPING", {}).get("subtotal", zero))
        out["ItemTax"] = _money(taxes.get("ITEM", zero))
        out["ShippingTax"] = _money(taxes.get("SHIPPING", zero))
        out["PromotionDiscount"] = _money(breakdowns.get("DISCOUNT", {}).get("subtotal", zero), negate=True)
        out["PromotionDiscountTax"] = _money(zero)
        promotions = [
            p["promotionId"] for p in item.get("promotion", {}).get("breakdowns", []) if "promotionId" in p
        ]
        if promotions:
            out["PromotionIds"] = promotions
        out["IsGift"] = "true" if gift else "false"
    condition = product.get("condition", {})
    out["ConditionId"] = condition.get("conditionType", "NEW").title()
    out["ConditionSubtypeId"] = condition.get("conditionSubtype", "NEW").replace("_", " ").title()
    if condition.get("conditionNote"):
        out["ConditionNote"] = condition["conditionNote"]
    designation = product.get("price", {}).get("priceDesignation")
    if designation:
        out["PriceDesignation"] = designation
    collections = item.get("tax", {}).get("taxCollections", [])
    if collections:
        out["TaxCollection"] = {
            "Model": "MarketplaceFacilitator",
            "ResponsibleParty": "Amazon Services, Inc.",
        }
    out["IsTransparency"] = "TRANSPARENCY" in item.get("programs", [])
    item_buyer: dict[str, Any] = {}
    if gift and not pending:
        item_buyer["GiftWrapLevel"] = gift.get("giftWrapLevel", "")
        if buyer_info and gift.get("giftMessage"):
            item_buyer["GiftMessageText"] = gift["giftMessage"]
    customized = product.get("customization", {}).get("customizedUrl")
    if buyer_info and customized:
        item_buyer["BuyerCustomizedInfo"] = {"CustomizedURL": customized}
    if item_buyer:
        out["BuyerInfo"] = item_buyer
    request = item.get("cancellation", {}).get("cancellationRequest")
    out["BuyerRequestedCancel"] = {
        "IsBuyerRequestedCancel": "true" if request else "false",
        "BuyerCancelReason": request.get("cancelReason", "") if request else "",
    }
    if product.get("serialNumbers"):
        out["SerialNumbers"] = list(product["serialNumbers"])
    constraints = fulfillment.get("shipping", {}).get("shippingConstraints", {})
    names = {
        "palletDelivery": "PalletDelivery",
        "signatureConfirmation": "SignatureConfirmation",
        "recipientIdentityVerification": "RecipientIdentityVerification",
        "recipientAgeVerification": "RecipientAgeVerification",
    }
    shipping_constraints = {names[key]: value for key, value in constraints.items() if key in names}
    if shipping_constraints:
        out["ShippingConstraints"] = shipping_constraints
    return out


def _order_of(caller: Caller, order_id: str) -> SandboxOrder | None:
    return SandboxOrder.objects.filter(seller=caller.seller, order_id=order_id).first()


def _no_parameters(request: HttpRequest, name: str, plan: UsagePlan) -> JsonResponse | None:
    refused = refuse_body(request, plan)
    if refused is not None:
        return refused
    try:
        parse_query(request.GET, name, ())
    except ParamError as problem:
        return invalid_input(str(problem), plan)
    return None


def _requires_rdt(caller: Caller, name: str) -> JsonResponse | None:
    if caller.has_rdt:
        return None
    return denied(
        f"{name} is a restricted operation: call it with a Restricted Data Token "
        "(POST /tokens/2021-03-01/restrictedDataToken) that lists this resource."
    )


@endpoint("getOrder", USAGE_PLANS["getOrder"], api=API, restricted=True)
def get_order(request: HttpRequest, caller: Caller, order_id: str) -> JsonResponse:
    plan = USAGE_PLANS["getOrder"]
    refused = _no_parameters(request, "getOrder", plan) or check_order_id(order_id, plan)
    if refused is not None:
        return refused
    order = _order_of(caller, order_id)
    if order is None:
        return not_found(order_id, plan)
    elements = caller.data_elements or frozenset()
    return sp_response({"payload": v0_order(order, elements)}, rate_limit=plan.header)


@endpoint("getOrderItems", USAGE_PLANS["getOrderItems"], api=API, restricted=True)
def get_order_items(request: HttpRequest, caller: Caller, order_id: str) -> JsonResponse:
    plan = USAGE_PLANS["getOrderItems"]
    refused = refuse_body(request, plan) or check_order_id(order_id, plan)
    if refused is not None:
        return refused
    try:
        query = parse_query(request.GET, "getOrderItems", ITEMS_PARAMS)
    except ParamError as problem:
        return invalid_input(str(problem), plan)
    if "NextToken" in query:
        # Every sandbox order fits on one page, so no NextToken was ever handed out.
        return invalid_input("NextToken is not a token that getOrderItems returned.", plan)
    order = _order_of(caller, order_id)
    if order is None:
        return not_found(order_id, plan)
    buyer_info = "buyerInfo" in (caller.data_elements or frozenset())
    payload = {
        "OrderItems": [v0_item(order, item, buyer_info) for item in order.details.get("orderItems", [])],
        "AmazonOrderId": order.order_id,
    }
    return sp_response({"payload": payload}, rate_limit=plan.header)


@endpoint("getOrderAddress", USAGE_PLANS["getOrderAddress"], api=API, restricted=True)
def get_order_address(request: HttpRequest, caller: Caller, order_id: str) -> JsonResponse:
    plan = USAGE_PLANS["getOrderAddress"]
    refused = (
        _requires_rdt(caller, "getOrderAddress")
        or _no_parameters(request, "getOrderAddress", plan)
        or check_order_id(order_id, plan)
    )
    if refused is not None:
        return refused
    order = _order_of(caller, order_id)
    if order is None:
        return not_found(order_id, plan)
    payload: dict[str, Any] = {"AmazonOrderId": order.order_id}
    company = order.details.get("buyer", {}).get("buyerCompanyName")
    if company:
        payload["BuyerCompanyName"] = company
    address = _shipping_address(order, full=True)
    if address:
        payload["ShippingAddress"] = address
        preference = order.details.get("recipient", {}).get("deliveryPreference")
        if preference:
            payload["DeliveryPreferences"] = _delivery_preferences(preference)
    return sp_response({"payload": payload}, rate_limit=plan.header)


def _delivery_preferences(preference: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if preference.get("dropOffLocation"):
        out["DropOffLocation"] = preference["dropOffLocation"]
    hours = preference.get("deliveryTime", {}).get("businessHours", [])
    if hours:
        out["PreferredDeliveryTime"] = {
            "BusinessHours": [
                {
                    "DayOfWeek": day["dayOfWeek"],
                    "OpenIntervals": [
                        {
                            "StartTime": {"Hour": w["startTime"]["hour"], "Minute": w["startTime"]["minute"]},
                            "EndTime": {"Hour": w["endTime"]["hour"], "Minute": w["endTime"]["minute"]},
                        }
                        for w in day.get("timeWindows", [])
                    ],
                }
                for day in hours
            ]
        }
    if preference.get("addressInstruction"):
        out["AddressInstructions"] = preference["addressInstruction"]
    return out


@endpoint("getOrderBuyerInfo", USAGE_PLANS["getOrderBuyerInfo"], api=API, restricted=True)
def get_order_buyer_info(request: HttpRequest, caller: Caller, order_id: str) -> JsonResponse:
    plan = USAGE_PLANS["getOrderBuyerInfo"]
    refused = (
        _requires_rdt(caller, "getOrderBuyerInfo")
        or _no_parameters(request, "getOrderBuyerInfo", plan)
        or check_order_id(order_id, plan)
    )
    if refused is not None:
        return refused
    order = _order_of(caller, order_id)
    if order is None:
        return not_found(order_id, plan)
    payload = {"AmazonOrderId": order.order_id, **_buyer_info(order, full=True)}
    return sp_response({"payload": payload}, rate_limit=plan.header)
