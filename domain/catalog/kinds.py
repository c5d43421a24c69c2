"""The catalog's words for how a programme is booked and how its waiting list moves on, as
the catalog file and the database spell them."""

from __future__ import annotations


class ProgrammeKind:
    ONGOING = "ongoing"  # enrol once in a class: booked into all its remaining sessions
    ONE_OFF = "one_off"  # one date
    PAYG = "payg"  # enrol once in the programme, then book sessions one by one


class Promotion:
    AUTO = "auto"  # a freed place goes straight to the first waiting client
    OFFER = "offer"  # it is offered to them, with Take / Skip and a hold time
