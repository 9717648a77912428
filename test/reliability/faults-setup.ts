import { rmSync } from "node:fs";
import { FIGURES_DIR } from "./figures.ts";

/** A full fault run starts from no figures, so the report never mixes in an older run's. */
export default function setup(): void {
  rmSync(FIGURES_DIR, { recursive: true, force: true });
}
