from clmwizard.launch import main

raise SystemExit(main())
