"""The `reader` kind's logic: from recognized text lines to grounded answers."""
