"""Validating AWS credentials: STS GetCallerIdentity through aioboto3.

The endpoint is configurable (moto or the sandbox in tests). A refusal from
AWS means the credentials are wrong; not reaching AWS at all is an upstream
failure, reported differently so the client knows whether to retry.
"""

from __future__ import annotations

import aioboto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    InvalidRegionError,
    ParamValidationError,
)

from flightdeck.gateway.domain.errors import ApiError, ErrorCode
from flightdeck.gateway.domain.identities import CallerIdentity


class Sts:
    def __init__(self, endpoint_url: str | None, timeout_s: float) -> None:
        self._endpoint = endpoint_url
        self._config = Config(
            connect_timeout=timeout_s, read_timeout=timeout_s, retries={"max_attempts": 1}
        )
        self._session = aioboto3.Session()

    async def identify(
        self, access_key_id: str, secret_access_key: str, region: str, session_token: str | None
    ) -> CallerIdentity:
        """Who these credentials are; ``AWS_CREDENTIALS_INVALID`` if AWS refuses them."""
        try:
            async with self._session.client(
                "sts",
                endpoint_url=self._endpoint,
                region_name=region,
                aws_access_key_id=access_key_id,
                aws_secret_access_key=secret_access_key,
                aws_session_token=session_token,
                config=self._config,
            ) as sts:
                found = await sts.get_caller_identity()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise ApiError(
                ErrorCode.AWS_CREDENTIALS_INVALID, f"AWS refused the credentials ({code})"
            ) from exc
        except (InvalidRegionError, ParamValidationError) as exc:
            raise ApiError(ErrorCode.VALIDATION_ERROR, f"AWS rejected the input: {exc}") from exc
        except (BotoCoreError, OSError) as exc:
            raise ApiError(
                ErrorCode.UPSTREAM_UNAVAILABLE,
                f"AWS STS could not be reached: {type(exc).__name__}",
            ) from exc
        return CallerIdentity(
            account_id=found["Account"], arn=found["Arn"], user_id=found.get("UserId", "")
        )
