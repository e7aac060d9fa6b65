"""The households service: registration, verification, edits, IDPoor status, reads.

In sections: the rules are households.rules, who may do what households.permissions, and
here events and history (events.py), the life of a household (lifecycle.py), its changes
(changes.py) and reads (reads.py); this module is their one public face.

Life of a household:

    register (CS officer of the commune)  -> pending_verification
    verify   (DMK/CP/national verifier above it) -> active
    return   (same verifiers, with reasons)  -> returned
    resubmit (CS officer, after correcting)  -> pending_verification

While a household is `pending_verification` or `returned`, the CS officer of its commune edits
it directly (`require_direct_edit`, then the change functions below). Once it is `active`,
every change goes through a change request (maker-checker); the change-request service
calls the SAME change functions to apply an approved request:

    update_household(session, principal=, household=, changes=HouseholdUpdate)
    add_member(session, principal=, household=, data=MemberCreate) -> Member
    update_member(session, principal=, household=, member=, changes=MemberUpdate) -> Member
    remove_member(session, principal=, household=, member=, reason=, note=None) -> Member
    change_head(session, principal=, household=, new_head_member_id=, former_head_relationship=None)
    move_household(session, principal=, household=, to_village_code=)
    set_poverty_status(session, principal=, household=, status=PovertyStatusInput)
    dissolve_household(session, principal=, household=, reason=, merged_into=None)

Flagging duplicates at registration, ending enrolments when a member leaves or the
household is dissolved, and merging duplicates involve other aggregates: they are the
registry's workflows (services.registry.workflows), which call these functions.

Those functions check only that the household lies in the applying principal's jurisdiction
(403 otherwise) and the record's own invariants (422/409 with the field named); who may apply
what, and when, is the caller's rule (`require_direct_edit` for direct edits, the
change-request workflow otherwise). Each one writes a history entry (`record_change`) and its
events in the same session, bumps the household's version (the aggregate's version: a
concurrent edit of any part of the household gets 412), flushes, and never commits.
"""

from services.registry.households.permissions import (
    CLOSED,
    DIRECTLY_EDITABLE,
    require_direct_edit,
)
from services.registry.households.service.changes import (
    add_member,
    change_head,
    dissolve_household,
    move_household,
    remove_member,
    set_poverty_status,
    update_household,
    update_member,
)
from services.registry.households.service.events import REMOVAL_STATUS
from services.registry.households.service.lifecycle import (
    register_household,
    resubmit_household,
    return_household,
    verify_household,
)
from services.registry.households.service.reads import (
    SEARCH_THRESHOLD,
    household_for_change,
    household_history,
    list_households,
    member_for_change,
    member_history,
    members_of,
    normalise_household_code,
    poverty_history,
    read_household_rows,
    read_member,
    search_members,
    visible_household,
)

__all__ = [
    "CLOSED",
    "DIRECTLY_EDITABLE",
    "REMOVAL_STATUS",
    "SEARCH_THRESHOLD",
    "add_member",
    "change_head",
    "dissolve_household",
    "household_for_change",
    "household_history",
    "list_households",
    "member_for_change",
    "member_history",
    "members_of",
    "move_household",
    "normalise_household_code",
    "poverty_history",
    "read_household_rows",
    "read_member",
    "register_household",
    "remove_member",
    "require_direct_edit",
    "resubmit_household",
    "return_household",
    "search_members",
    "set_poverty_status",
    "update_household",
    "update_member",
    "verify_household",
    "visible_household",
]
