"""What the I-SAF routes depend on to know who calls: `Recorder` (writes, facilitators at a
commune or district) and `Reader` (reads, viewers and facilitators at any tier)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.isaf import roles
from shared.principal import Principal

Recorder = Annotated[Principal, Depends(roles.RECORDER)]
Reader = Annotated[Principal, Depends(roles.READER)]
