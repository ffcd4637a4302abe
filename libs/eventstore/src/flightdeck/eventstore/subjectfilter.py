"""NATS subject filters: ``*`` matches one token, a final ``>`` one or more."""

from __future__ import annotations


def matches(subject_filter: str, subject: str) -> bool:
    """Whether ``subject`` is one of the subjects ``subject_filter`` names."""
    if subject_filter == subject:
        return True
    wanted, tokens = subject_filter.split("."), subject.split(".")
    for index, token in enumerate(wanted):
        if token == ">":
            return index == len(wanted) - 1 and len(tokens) > index
        if index >= len(tokens) or (token != "*" and token != tokens[index]):
            return False
    return len(tokens) == len(wanted)
