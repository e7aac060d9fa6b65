"""Every event consumer of the I-SAF service; `main.py` starts them all."""

from services.isaf.budget.consumer import budget_disclosure, support_requests
from services.isaf.forums.consumer import forum_grievances

CONSUMERS = [forum_grievances, support_requests, budget_disclosure]
