// ink outside the views.
import { render } from 'ink';

export const draw = render;
