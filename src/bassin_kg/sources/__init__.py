"""The sources of the graph, one module each: reader, converter and catalogue entry (see ``registry``)."""
