"""Small shared helpers with no Django import: citizen ID numbers (GB 11643), masking,
field encryption and blind indexes, geometry, relationship graphs, images."""
