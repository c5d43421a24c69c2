"""Payments as Telegram runs them: the invoices the bot sends (``sendInvoice``), a user
tapping Pay (a pre-checkout query the bot must answer in time, then ``successful_payment``),
Telegram Stars refunds (``refundStarPayment``) and the bot's list of Stars transactions
(``getStarTransactions``: every Stars payment the fake took and every refund it made)."""

# The waits take a ``timeout`` argument on purpose: it is the API the tests read best.
# ruff: noqa: ASYNC109

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.fake_telegram.model import ApiCall, ApiError, FakeMessage

if TYPE_CHECKING:
    from tests.fake_telegram.server import FakeTelegram
    from tests.fake_telegram.users import FakeUser

STARS = "XTR"  # the currency of Telegram Stars


@dataclass
class SentInvoice:
    """An invoice the bot sent (``sendInvoice``), as the fake keeps it.

    The Message's ``invoice`` object (in :attr:`FakeMessage.media`) has no payload or prices;
    these are here. ``charge_id`` is set once the user paid it (Telegram then shows a
    receipt instead of the Pay button, so an invoice is paid at most once).
    """

    title: str
    description: str
    payload: str
    currency: str
    prices: list[dict[str, Any]]
    provider_token: str = ""
    max_tip_amount: int = 0
    start_parameter: str = ""
    charge_id: str | None = None

    @property
    def total_amount(self) -> int:
        return sum(int(p["amount"]) for p in self.prices)

    @property
    def stars(self) -> bool:
        return self.currency == STARS


@dataclass
class Payment:
    """What happened when a user tapped Pay (:meth:`FakeUser.pay`).

    ``ok`` and ``error_message`` are the bot's ``answerPreCheckoutQuery`` (``answer``). When
    ok, ``charge_id`` is the ``telegram_payment_charge_id`` of the ``successful_payment``
    message (``message``, the Message JSON) delivered in update ``update_id``.
    """

    user_id: int
    query_id: str
    currency: str
    total_amount: int
    invoice_payload: str
    answer: ApiCall
    ok: bool
    error_message: str | None = None
    charge_id: str | None = None
    provider_charge_id: str | None = None
    message: dict[str, Any] | None = field(default=None, repr=False)
    update_id: int | None = None


@dataclass
class StarRefund:
    """A ``refundStarPayment`` the fake carried out."""

    user_id: int
    charge_id: str
    total_amount: int
    invoice_payload: str


# ----- the bot's side: Bot API methods ---------------------------------------------------


def send_invoice(fake: FakeTelegram, call: ApiCall) -> dict[str, Any]:
    invoice = parse_invoice(call.params)
    markup = call.params.get("reply_markup")
    if markup is not None:
        rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
        first = rows[0][0] if rows and rows[0] else None
        if not isinstance(first, dict) or first.get("pay") is not True:
            # an invoice's keyboard must start with the Pay button
            raise ApiError(400, "Bad Request: REPLY_MARKUP_BUY_EMPTY", record=True)
    message_json = fake.store_bot_message(
        call.params,
        text_key="caption",  # an invoice has no text; there is no caption parameter either
        invoice={
            "title": invoice.title,
            "description": invoice.description,
            "start_parameter": invoice.start_parameter,
            "currency": invoice.currency,
            "total_amount": invoice.total_amount,
        },
    )
    fake._chats[message_json["chat"]["id"]][message_json["message_id"]].invoice = invoice
    return message_json


def answer_pre_checkout_query(fake: FakeTelegram, call: ApiCall) -> bool:
    p = call.params
    query_id = str(p.get("pre_checkout_query_id", ""))
    if query_id not in fake._pre_checkout_queries:
        raise ApiError(400, "Bad Request: QUERY_ID_INVALID", record=True)
    asked, answered = fake._pre_checkout_queries[query_id]
    if answered:
        raise ApiError(400, "Bad Request: QUERY_ID_INVALID (already answered)", record=True)
    if time.monotonic() - asked > fake.pre_checkout_timeout:
        raise ApiError(
            400,
            "Bad Request: query is too old and response timeout expired or query id is "
            f"invalid (pre-checkout queries must be answered within "
            f"{fake.pre_checkout_timeout:g}s)",
            record=True,
        )
    ok = p.get("ok")
    if not isinstance(ok, bool):
        raise ApiError(400, 'Bad Request: parameter "ok" is required (a Boolean)', record=True)
    if not ok and not str(p.get("error_message") or "").strip():
        raise ApiError(400, "Bad Request: error_message is required when ok is false", record=True)
    fake._pre_checkout_queries[query_id] = (asked, True)
    return True


def refund_star_payment(fake: FakeTelegram, call: ApiCall) -> bool:
    p = call.params
    charge_id = str(p.get("telegram_payment_charge_id", ""))
    payment = fake._charges.get(charge_id)
    if payment is None or payment.user_id != p.get("user_id") or payment.currency != STARS:
        # card payments have no refund method in the Bot API: not found either
        raise ApiError(400, "Bad Request: CHARGE_NOT_FOUND", record=True)
    if any(r.charge_id == charge_id for r in fake.star_refunds):
        # a correct bot may retry a refund whose answer it lost: not recorded
        raise ApiError(400, "Bad Request: CHARGE_ALREADY_REFUNDED")
    fake.star_refunds.append(
        StarRefund(payment.user_id, charge_id, payment.total_amount, payment.invoice_payload)
    )
    user = fake.users[payment.user_id]
    refund = star_transaction(
        charge_id, payment.total_amount, user, payment.invoice_payload, refund=True
    )
    fake.star_transactions.append(refund)
    receive_service_message(
        fake.users[payment.user_id],
        "refunded_payment",
        {
            "currency": STARS,
            "total_amount": payment.total_amount,
            "invoice_payload": payment.invoice_payload,
            "telegram_payment_charge_id": charge_id,
        },
    )
    return True


def get_star_transactions(fake: FakeTelegram, call: ApiCall) -> dict[str, Any]:
    """The bot's Stars transactions in chronological order (as Telegram documents it;
    ``fake.star_transactions_newest_first`` lists them the other way round): ``offset`` of
    them skipped, at most ``limit`` (1-100, default 100)."""
    offset, limit = call.params.get("offset", 0), call.params.get("limit", 100)
    if not isinstance(offset, int) or offset < 0:
        raise ApiError(400, f"Bad Request: offset must be a non-negative integer, got {offset!r}")
    if not isinstance(limit, int) or not 1 <= limit <= 100:
        raise ApiError(400, f"Bad Request: limit must be 1-100, got {limit!r}", record=True)
    listed = fake.star_transactions
    if fake.star_transactions_newest_first:
        listed = listed[::-1]
    return {"transactions": listed[offset : offset + limit]}


def star_transaction(
    charge_id: str, amount: int, user: FakeUser, payload: str, *, refund: bool = False
) -> dict[str, Any]:
    """A StarTransaction: a user's payment for an invoice (``source``), or its refund
    (``receiver``, under the payment's own id)."""
    partner = {
        "type": "user",
        "transaction_type": "invoice_payment",
        "user": user.user_json(),
        "invoice_payload": payload,
    }
    return {
        "id": charge_id,
        "amount": amount,
        "date": int(time.time()),
        "receiver" if refund else "source": partner,
    }


METHODS = {
    "sendInvoice": send_invoice,
    "answerPreCheckoutQuery": answer_pre_checkout_query,
    "refundStarPayment": refund_star_payment,
    "getStarTransactions": get_star_transactions,
}


_CURRENCY_RE = re.compile(r"[A-Z]{3}")


def _invoice_error(problem: str) -> ApiError:
    return ApiError(400, f"Bad Request: {problem}", record=True)


def parse_invoice(p: Mapping[str, Any]) -> SentInvoice:
    """Validate ``sendInvoice`` parameters as Telegram does; raise :class:`ApiError`.

    Error codes are Telegram's where known (PAYMENT_PROVIDER_INVALID, STARS_INVOICE_INVALID,
    ...); a short explanation follows in parentheses.
    """
    title, description = str(p.get("title") or ""), str(p.get("description") or "")
    payload, currency = str(p.get("payload") or ""), str(p.get("currency") or "")
    if not 1 <= len(title) <= 32:
        raise _invoice_error(f"INVOICE_TITLE_INVALID (title is 1-32 characters, got {title!r})")
    if not 1 <= len(description) <= 255:
        raise _invoice_error(
            f"INVOICE_DESCRIPTION_INVALID (description is 1-255 characters, got {len(description)})"
        )
    if not 1 <= len(payload.encode()) <= 128:
        raise _invoice_error(
            f"INVOICE_PAYLOAD_INVALID (payload is 1-128 bytes, got {len(payload.encode())})"
        )
    if not _CURRENCY_RE.fullmatch(currency):
        raise _invoice_error(f"CURRENCY_INVALID ({currency!r})")
    prices = parse_prices(p.get("prices"))
    provider_token = str(p.get("provider_token") or "")
    max_tip = p.get("max_tip_amount") or 0
    tips = p.get("suggested_tip_amounts") or []
    if not isinstance(max_tip, int) or max_tip < 0:
        raise _invoice_error(f"max_tip_amount must be a non-negative integer, got {max_tip!r}")
    if currency == STARS:
        if len(prices) != 1:
            raise _invoice_error(f"STARS_INVOICE_INVALID (exactly one price, got {len(prices)})")
        if provider_token:
            raise _invoice_error("STARS_INVOICE_INVALID (no provider_token for Stars)")
        if max_tip or tips:
            raise _invoice_error("STARS_INVOICE_INVALID (no tips for Stars)")
    elif not provider_token:
        raise _invoice_error(f"PAYMENT_PROVIDER_INVALID (a {currency} invoice needs a token)")
    if currency == STARS and prices[0]["amount"] <= 0:
        raise _invoice_error("CURRENCY_TOTAL_AMOUNT_INVALID (Stars price must be > 0)")
    if sum(price["amount"] for price in prices) <= 0:
        raise _invoice_error("CURRENCY_TOTAL_AMOUNT_INVALID (the total must be > 0)")
    if tips and (
        not isinstance(tips, list)
        or len(tips) > 4
        or not all(isinstance(t, int) and 0 < t <= max_tip for t in tips)
        or tips != sorted(set(tips))
    ):
        raise _invoice_error(f"suggested_tip_amounts invalid: {tips!r} (max {max_tip})")
    return SentInvoice(
        title=title,
        description=description,
        payload=payload,
        currency=currency,
        prices=prices,
        provider_token=provider_token,
        max_tip_amount=max_tip,
        start_parameter=str(p.get("start_parameter") or ""),
    )


def parse_prices(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise _invoice_error("prices must be a non-empty JSON array of LabeledPrice")
    for price in raw:
        label = price.get("label") if isinstance(price, dict) else None
        amount = price.get("amount") if isinstance(price, dict) else None
        # components may be negative (a discount); only the total must be positive
        if not label or not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
            raise _invoice_error(
                f"LabeledPrice needs a label and a non-zero integer amount, got {price!r}"
            )
    return raw


# ----- the user's side: tapping Pay ------------------------------------------------------


async def pay(
    user: FakeUser,
    invoice_message: FakeMessage | int | None,
    tip_amount: int,
    timeout: float | None,
) -> Payment:
    """See :meth:`FakeUser.pay`."""
    message = find_invoice(user, invoice_message)
    invoice = message.invoice
    assert invoice is not None
    if tip_amount and not 0 < tip_amount <= invoice.max_tip_amount:
        raise AssertionError(f"tip {tip_amount} not allowed (max {invoice.max_tip_amount})")
    total = invoice.total_amount + tip_amount
    query_id, answer = await _ask_pre_checkout(user, invoice, total, timeout)
    payment = Payment(
        user_id=user.id,
        query_id=query_id,
        currency=invoice.currency,
        total_amount=total,
        invoice_payload=invoice.payload,
        answer=answer,
        ok=answer.params["ok"],
        error_message=answer.params.get("error_message"),
    )
    if payment.ok:
        _complete(user, invoice, payment)
    return payment


async def _ask_pre_checkout(
    user: FakeUser, invoice: SentInvoice, total: int, timeout: float | None
) -> tuple[str, ApiCall]:
    """Send the pre-checkout query; return its id and the bot's accepted answer to it."""
    fake = user.fake
    query_id = str(5_000_000_000_000_000_000 + next(fake._query_ids))
    fake._pre_checkout_queries[query_id] = (time.monotonic(), False)
    since = fake.mark()
    fake.inject_update(
        {
            "pre_checkout_query": {
                "id": query_id,
                "from": user.user_json(),
                "currency": invoice.currency,
                "total_amount": total,
                "invoice_payload": invoice.payload,
            }
        }
    )
    wait = fake.pre_checkout_timeout if timeout is None else timeout
    try:
        answer = await fake.wait_for_call(
            "answerPreCheckoutQuery",
            # an answer Telegram refused leaves the query open: the bot may answer again
            lambda c: str(c.params.get("pre_checkout_query_id")) == query_id and c.ok,
            since=since,
            timeout=wait,
        )
    except AssertionError as e:
        raise AssertionError(
            f"the bot did not answer the pre-checkout query for {invoice.payload!r} within "
            f"{wait:g}s (Telegram cancels the payment)\n{e}\nchat:\n{user.describe_chat()}"
        ) from None
    return query_id, answer


def _complete(user: FakeUser, invoice: SentInvoice, payment: Payment) -> None:
    """Charge the user: the invoice is paid, and ``successful_payment`` reaches the bot."""
    fake = user.fake
    n = next(fake._charge_ids)
    payment.charge_id = f"stxFake{n:06d}" if invoice.stars else f"6000000{n:06d}_fake"
    payment.provider_charge_id = "" if invoice.stars else f"ch_fake_{n:06d}"
    invoice.charge_id = payment.charge_id
    payment.message, payment.update_id = receive_service_message(
        user,
        "successful_payment",
        {
            "currency": payment.currency,
            "total_amount": payment.total_amount,
            "invoice_payload": payment.invoice_payload,
            "telegram_payment_charge_id": payment.charge_id,
            "provider_payment_charge_id": payment.provider_charge_id,
        },
    )
    fake.payments.append(payment)
    fake._charges[payment.charge_id] = payment
    if invoice.stars:
        fake.star_transactions.append(
            star_transaction(payment.charge_id, payment.total_amount, user, invoice.payload)
        )


def take_stars_unseen(user: FakeUser, payload: str, amount: int, seconds_ago: int) -> str:
    """See :meth:`FakeTelegram.take_stars_unseen`."""
    fake = user.fake
    charge_id = f"stxFake{next(fake._charge_ids):06d}"
    payment = Payment(
        user_id=user.id,
        query_id="",
        currency=STARS,
        total_amount=amount,
        invoice_payload=payload,
        answer=ApiCall("answerPreCheckoutQuery", {"ok": True}, index=-1),  # never asked
        ok=True,
        charge_id=charge_id,
        provider_charge_id="",
    )
    fake._charges[charge_id] = payment  # refundable like any other
    transaction = star_transaction(charge_id, amount, user, payload)
    transaction["date"] -= seconds_ago
    fake.star_transactions.append(transaction)
    return charge_id


def receive_service_message(
    user: FakeUser, kind: str, data: dict[str, Any]
) -> tuple[dict[str, Any], int]:
    """Put a payment service message from ``user`` in the chat and send it to the bot."""
    message = user._receive(user._user_message(user, "", media={kind: data}))
    assert message.update_id is not None
    return user.fake._message_json(message), message.update_id


def find_invoice(user: FakeUser, wanted: FakeMessage | int | None) -> FakeMessage:
    """The invoice message ``wanted`` (a message or its id), else the newest unpaid one."""
    chat = user.fake._chats[user.chat_id]
    if wanted is None:
        unpaid = [m for m in chat.values() if m.invoice and not m.invoice.charge_id]
        if not unpaid:
            chat_text = user.describe_chat()
            raise AssertionError(f"no unpaid invoice in chat {user.chat_id}:\n{chat_text}")
        return unpaid[-1]
    message_id = wanted if isinstance(wanted, int) else wanted.message_id
    message = chat.get(message_id)
    if message is None or message.invoice is None:
        raise AssertionError(
            f"message #{message_id} is not an invoice in chat {user.chat_id}:\n"
            f"{user.describe_chat()}"
        )
    if message.invoice.charge_id:
        raise AssertionError(
            f"invoice #{message_id} is already paid ({message.invoice.charge_id}); Telegram "
            "shows a receipt instead. Use repeat_payment to redeliver the payment."
        )
    return message
