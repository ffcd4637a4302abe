"""What the API answers when tenancy refuses a request (ADR 0012).

Everything that is not the caller's (another tenant's namespace or app, a
reserved namespace, one nobody owns) gets the same answer as a namespace that
does not exist, built from the caller's own input only; an unwatched namespace
of the caller's own says so, since it tells nothing about anyone else.
"""

from __future__ import annotations

from flightdeck.gateway.domain.errors import ApiError, ErrorCode
from flightdeck.runtime.tenancy import Refusal


def namespace_not_found(namespace: str) -> ApiError:
    return ApiError(
        ErrorCode.NAMESPACE_NOT_FOUND, f"namespace {namespace} is not one of this tenant's"
    )


def refused(refusal: Refusal, namespace: str) -> ApiError:
    """The error for a deploy that tenancy refuses."""
    if refusal.foreign:
        return namespace_not_found(namespace)
    return ApiError(
        ErrorCode.NAMESPACE_NOT_WATCHED,
        f"namespace {namespace} is not watched by Flightdeck (FLIGHTDECK_K8S__NAMESPACES), "
        "so a deployment there could never finish; ask an operator to add it",
    )


def app_not_found(namespace: str, app: str) -> ApiError:
    return ApiError(ErrorCode.APP_NOT_FOUND, f"no app {app} in namespace {namespace}")
