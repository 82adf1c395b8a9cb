// The Docker Engine API client.
import Docker from 'dockerode';

export const engine = () => new Docker();
