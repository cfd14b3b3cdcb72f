"""Credit decisions (授信): the scorecard model and its scoring on the pool, and the credit
policy as data with its rule engine. Imports no Django."""
