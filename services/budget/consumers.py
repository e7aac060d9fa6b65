"""Every event consumer of the budget service; `main.py` starts them all."""

from services.budget.indicators.consumer import households, members

CONSUMERS = [households, members]
