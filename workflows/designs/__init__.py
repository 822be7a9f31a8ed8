"""Process designers' work: drafts of process bundles and rule sets, validated, deployed as new
versions, compared, and running instances migrated between versions."""
