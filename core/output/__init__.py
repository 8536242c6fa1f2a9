"""DMX outputs (Art-Net, sACN, Enttec USB, file recorder), the fixed-rate sender and the output list of a project."""
