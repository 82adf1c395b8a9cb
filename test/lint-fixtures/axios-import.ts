// A raw HTTP client outside src/clients.
import axios from 'axios';

export const get = (url: string) => axios.get(url);
