import type { Flag } from '../../api/types.ts';

/** A flag as last answered, with its ETag for the next If-Match. */
export interface LoadedFlag {
  flag: Flag;
  etag: string | undefined;
}

/** What every tab of a flag gets from the flag page: the flag, its environments and a way to replace it. */
export interface FlagTabProps {
  flag: Flag;
  etag: string | undefined;
  environments: string[];
  onChanged: (loaded: LoadedFlag) => void;
  reload: () => void;
}
