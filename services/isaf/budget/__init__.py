"""The budget read model: what the budget service published, released and saw spent per
unit and fiscal year, kept from its events for the public I4C view."""
