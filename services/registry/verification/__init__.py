"""The verification query: has this household or person received a programme, and when last?"""
