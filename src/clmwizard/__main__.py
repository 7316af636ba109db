from clmwizard.cli import main

raise SystemExit(main())
