"""What the grievance service's routes depend on to know who calls and what they change.

- `GrievanceRecorder`: a route taking it runs only for grievance handlers.
- `GrievanceForChange`: the grievance a transition changes, loaded (404 if none), checked
  against its handling unit (403: outside the area, sensitive without the role, or not the
  unit handling it now) and against `If-Match` (428 without, 412 stale), in that order.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from services.grievance import roles
from services.grievance.grievances import service
from services.grievance.grievances.models import Grievance
from shared.db import SessionDep
from shared.http.concurrency import for_change
from shared.principal import Principal, PrincipalDep

GrievanceRecorder = Annotated[Principal, Depends(roles.RECORDER)]


async def _grievance(
    grievance_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Grievance:
    grievance = await service.get_for_change(session, grievance_id)
    service.require_handler(principal, grievance)
    return grievance


GrievanceForChange = Annotated[Grievance, Depends(for_change(_grievance))]
