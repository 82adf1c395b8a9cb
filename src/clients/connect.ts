import axios from 'axios';

export interface ConnectorPlugin {
  class: string;
  type: string;
  version: string;
}

/** `GET /connector-plugins` of a Kafka Connect worker. */
export async function listConnectorPlugins(connectUrl: string, timeoutMs = 5_000): Promise<ConnectorPlugin[]> {
  const { data } = await axios.get<ConnectorPlugin[]>(`${connectUrl.replace(/\/$/, '')}/connector-plugins`, { timeout: timeoutMs });
  return data;
}
