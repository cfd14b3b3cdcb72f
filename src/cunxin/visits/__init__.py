"""走访: visit tasks generated from a signed-off evaluation, and the customer manager's
visits (on-site or by phone) that confirm or correct it and set the survey amount."""
