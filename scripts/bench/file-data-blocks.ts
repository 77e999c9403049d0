// Which disk blocks hold the data of the files under a directory of an ext4 on a loop device over
// the disk file: every extent from `filefrag -v` (FIEMAP), mapped from 4 KiB file-system blocks
// to s3backer blocks (the loop device maps the file system 1:1 onto the disk file). A lower bound
// of what reading the files touches: the inode tables and directories they also read are not in
// it. Taken while the files are still mounted from writing them (FIEMAP reads extents ext4 already
// holds, so the cold read after the remount is not warmed).
import { mustRunTracked } from './run-tracked.js';

const FS_BLOCK = 4096;

export async function fileDataBlocks(dir: string, blockSize: number): Promise<number> {
  const { stdout } = await mustRunTracked('find', [dir, '-type', 'f', '-exec', 'filefrag', '-v', `-b${FS_BLOCK}`, '{}', '+']);
  const blocks = new Set<number>();
  for (const line of stdout.split('\n')) {
    // `   0:        0..       1:      34816..     34817:      2:             last,eof`
    const match = /^\s*\d+:\s+\d+\.\.\s*\d+:\s+(\d+)\.\.\s*(\d+):/.exec(line);
    if (!match) continue;
    const first = Math.floor((Number(match[1]) * FS_BLOCK) / blockSize);
    const last = Math.floor(((Number(match[2]) + 1) * FS_BLOCK - 1) / blockSize);
    for (let block = first; block <= last; block++) blocks.add(block);
  }
  return blocks.size;
}
