"""What every DCI route shares at the HTTP level: errors in the standard's format, and the
signature check before a message is read.

- `DciRoute`: the router's route class. A refusal raised anywhere below a DCI route (a
  problem, a request that does not validate, a database out of reach) is answered as the
  standard's HttpErrorResponse (`application/json`, `errors[{code, message}]`,
  `shared.http.dci`), with the same status the platform would give, and changes nothing (the
  request's transaction has rolled back when it arrives here).
- `SignedEnvelope`: the request body, once the caller is a DCI client and its message is
  signed by a key registered for it (or it is registered as unsigned): `signatures`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.registry.dci import service, signatures
from services.registry.dci.schemas import DciEnvelope, EnvelopeBody
from shared.clock import ClockDep
from shared.http import dci
from shared.principal import PrincipalDep
from shared.problems import Problem, storage_problem
from shared.problems import _validation_problem as validation_problem


class DciRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer_in_dci_format(request: Request) -> Response:
            try:
                return await handler(request)
            except Problem as problem:
                return dci.error_response(problem)
            except RequestValidationError as exc:
                return dci.error_response(validation_problem(list(exc.errors())))
            except StarletteHTTPException as exc:
                detail = exc.detail if isinstance(exc.detail, str) else None
                return dci.error_response(Problem(exc.status_code, detail, headers=exc.headers))
            except Exception as exc:
                problem = storage_problem(exc)
                if problem is None:
                    raise
                return dci.error_response(problem)

        return answer_in_dci_format


async def _signed(
    body: EnvelopeBody, principal: PrincipalDep, request: Request, clock: ClockDep
) -> DciEnvelope:
    service.require_client(principal)
    signatures.verify(
        body.model_dump(),
        client_id=principal.sub.removeprefix("client:"),
        registration=request.app.state.settings.dci_keys_for(principal),
        now=clock.now(),
    )
    return body


SignedEnvelope = Annotated[DciEnvelope, Depends(_signed)]
