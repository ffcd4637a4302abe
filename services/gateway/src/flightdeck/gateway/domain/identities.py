"""Who a set of cloud credentials belongs to, as the provider answers it.

The service layer's ``Identities`` port returns it and the STS adapter builds
it; they meet here rather than importing each other.
"""

from __future__ import annotations

import msgspec


class CallerIdentity(msgspec.Struct, frozen=True):
    account_id: str
    arn: str
    user_id: str
