from ocrfleet_agent.cli import main

raise SystemExit(main())
