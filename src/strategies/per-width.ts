import type { SlotScoreMaker } from '../engine/strategy.js';
import type { TileDef } from '../engine/types.js';

/** A spread's score (vertical, fly): its value per unit of width, the distance of its first two strikes. */
export function valuePerWidth(def: TileDef, value: number): number {
  return value / (def.strikes[1]! - def.strikes[0]!);
}

/** `valuePerWidth` by slot (`declarePure`): the widths in a column. */
export const valuePerWidthBySlot: SlotScoreMaker = (defs) => {
  const width = Float64Array.from(defs, (def) => def.strikes[1]! - def.strikes[0]!);
  return (slot, io, at) => {
    io[at + 1] = io[at]! / width[slot]!;
  };
};
