"""From raw export files to the derived case table: discover, ingest, pseudonymise, clean, compile, derive, quality."""
