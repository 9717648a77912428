import { main } from "./lib/cli/main.ts";
import { createRunbookCommand } from "./lib/run/run-command.ts";

await main(createRunbookCommand());
