"""`omg`: the command line for platform teams."""
