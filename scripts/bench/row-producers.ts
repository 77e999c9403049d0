// Every row producer, in the order a run calls them for each store and block size. The extension
// point: append a producer here (see row-producer.ts for what one does and must clean up).
import type { RowProducer } from './row-producer.js';
import { ddRows } from './dd-rows.js';
import { ext4FileRows } from './ext4-file-rows.js';
import { smallFileRows } from './small-file-rows.js';
import { fioRows } from './fio-rows.js';
import { nbdRows } from './nbd-rows.js';

export const ROW_PRODUCERS: readonly RowProducer[] = [ddRows, nbdRows, ext4FileRows, smallFileRows, fioRows];
