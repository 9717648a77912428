import { createRunbookCommand } from "./lib/run.ts";
import { main } from "./lib/shared/cli.ts";

await main(createRunbookCommand());
