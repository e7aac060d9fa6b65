"""Every event consumer of the budget service; `main.py` starts them all."""

from services.budget.indicators.consumer import households, members
from services.budget.support.consumer import jaap

CONSUMERS = [households, members, jaap]
