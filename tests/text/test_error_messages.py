"""Every domain error a use case can raise reaches people as a sentence, never as a code."""

import inspect
import re

import domain.errors
from bot.text.errors import MESSAGES, message_for

# Catalog problems have their own table (bot/text/catalog_messages.py), one message per problem.
OWN_TABLES = {"catalog_invalid", "domain_error"}


def domain_error_codes() -> set[str]:
    return {
        cls.code
        for _, cls in inspect.getmembers(domain.errors, inspect.isclass)
        if issubclass(cls, domain.errors.DomainError)
    } - OWN_TABLES


def test_every_domain_error_code_has_a_message():
    assert domain_error_codes() - set(MESSAGES) == set()


def test_messages_format_with_the_params_their_errors_carry():
    rank = message_for("rank_too_low", lambda s: s, {"programme_rank": 3, "client_rank": 1})
    assert "rank 3" in rank
    assert "your rank is 1" in rank
    assert not re.search(r"{\w+}", rank)


def test_an_unknown_code_still_gets_a_plain_sentence():
    assert message_for("no_such_code", lambda s: s) == MESSAGES["stale_button"]
