"""The Joint Accountability Action Plan adopted at the interface meeting, its actions, their
monitoring, and support requests raised from an action's budget need."""
