"""Home address change: request -> check -> manager approval -> apply -> audit."""
