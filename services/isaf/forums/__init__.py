"""Public forums: the questions and issues citizens raise, the answers given, and issues sent
to the grievance service as feedback (whose tracking code comes back by event)."""
