// SPDX-License-Identifier: GPL-2.0-or-later
/* placeholder: the CLI lands with the model */
int main(void)
{
	return 0;
}
