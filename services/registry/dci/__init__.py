"""The DCI social-registry API for other government systems (Digital Convergence Initiative,
Social Registry v1.0.0 and the core registry API; the standard is copied in `spec/`).

What is implemented: sync and async search (`idtype-value` with HOUSEHOLD_ID, NIN,
MEMBER_ID; `expression`; `predicate`), sync and async transaction status, subscribe,
unsubscribe and notify driven by the registry's own events, plus a plain list of a client's
subscriptions. Decisions where the standard leaves a choice are written in the modules:
`envelope` (transport problems vs. protocol rejections), `criteria` (queries and their
meaning), `records` (what a Group/Member record holds and what personal data leaves),
`service` (access, areas), `delivery` (callbacks, retries), `consumer` (event types),
`signatures` (how messages are signed and verified against each client's registered keys),
`transport` (errors in the standard's HttpErrorResponse format, the signature check).
"""
