"""The counting rules every report states in its metadata (and the README repeats)."""

COUNTING_RULES: dict[str, str] = {
    "median_even_votes": "The median of an indicator's votes; with an even number of votes it "
    "is the mean of the two middle votes, given with one decimal (3 and 4 give 3.5). Report "
    "medians over several scorecards are taken over all their votes with the same rule.",
    "jaap_completion": "Completion rate = completed actions / adopted actions of the JAAPs "
    "adopted in the year. Dropped actions STAY in the denominator (a dropped action was "
    "adopted and not delivered); both counts and the dropped count are given. Actions added "
    "after adoption count as adopted.",
    "door_to_door": "Door-to-door rounds are NOT counted as I4C disseminations: they are "
    "their own row (rounds, people reached, booklets handed out).",
    "khan_level_records": "Records of an urban khan's own cycle (the khan administration's "
    "scorecards and JAAP, located at the 4-digit khan code) count once in the khan's and its "
    "province's reports and in no sangkat's.",
    "cafs_trained": "A CAF trained several times counts once: once per year in a year's "
    "column, once in the total over the range. CAFs are placed at the commune they serve, "
    "wherever the training was held. Active CAFs are those marked active now.",
    "sex": "Participants are counted by sex as women, men and other; a participant of "
    "another sex (or who did not say) is in the total and in 'other', never in women or men.",
    "scorecards": "Only completed scorecards count (participants from their anonymous "
    "profiles); community scorecards and provider self-assessments are counted apart.",
    "years": "Activities count in the year of their date; scorecards and JAAPs in their "
    "cycle's year.",
}
