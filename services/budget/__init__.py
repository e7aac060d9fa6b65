"""Social protection budget service: budget envelopes, adaptive allocation down the tiers,
releases, expenditure, support requests between tiers and public disclosure.
"""
