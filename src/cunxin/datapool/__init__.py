"""The data pool: landing, standardize, link, golden persons, households, tags, profiles.\n\nNo Django import anywhere below this package."""
