"""Fetching an allowed remote image (`--allow-remote-images`): the one HTTP client use.

It lives with the aiohttp host rather than in runtime/api/images.py so the API layer stays
transport-free; `ApiService` receives it as its `fetch_remote` callable.
"""

from __future__ import annotations

import aiohttp

from runtime.api.images import ImagePolicy, RemoteImage, check_size
from runtime.errors import ImageTooLargeError, InvalidRequestError


async def fetch_remote_image(remote: RemoteImage, policy: ImagePolicy) -> bytes:
    """Fetch an allowed remote image with a size cap and a timeout."""
    timeout = aiohttp.ClientTimeout(total=policy.fetch_timeout_s)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.get(remote.url, allow_redirects=False) as response:
                if 300 <= response.status < 400:
                    # Never followed: a redirect could lead to another host or to file:// (issue 12).
                    raise InvalidRequestError(
                        f"Fetching the image URL gave HTTP {response.status} (a redirect); redirects are not "
                        "followed. Send the image's final URL, or the image inline as a data: URI.",
                        param="image_url",
                    )
                if response.status != 200:
                    raise InvalidRequestError(
                        f"Fetching the image URL gave HTTP {response.status}; check that the URL names an image "
                        "the server can fetch, or send the image inline as a data: URI.",
                        param="image_url",
                    )
                if (response.content_length or 0) > policy.max_bytes:
                    raise ImageTooLargeError(f"The remote image is over {policy.max_bytes} bytes.")
                data = await response.content.read(policy.max_bytes + 1)
    except (aiohttp.ClientError, TimeoutError) as error:
        raise InvalidRequestError(f"Cannot fetch the image URL: {error or type(error).__name__}.", "image_url") from None
    return check_size(data, policy)
