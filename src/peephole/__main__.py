from peephole.cli import main

raise SystemExit(main())
