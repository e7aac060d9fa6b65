"""Every event consumer of the grievance service; `main.py` starts them all."""

from services.grievance.grievances.consumer import late_links
from services.grievance.grievances.forum_issues import forum_issues
from services.grievance.households.consumer import households, members

CONSUMERS = [households, members, late_links, forum_issues]
