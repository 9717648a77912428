import { main } from "../lib/cli/main.ts";
import { createDemoCommand } from "./demo-command.ts";

// The demo itself, started by scripts/demo.ts (see there why in a process of its own).
await main(createDemoCommand());
