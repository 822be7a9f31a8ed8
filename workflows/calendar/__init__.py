"""Vietnam's working-day calendar: public holidays and swap days from the `holidays` package,
with a per-day override table on top that an admin edits."""
