from ocrfleet.cli.main import main

raise SystemExit(main())
